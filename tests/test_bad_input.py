"""Each kind of bad input gives one `file:line: column: reason` message, exit 1, no traceback,
and leaves the previous database byte-for-byte untouched."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from loaders.cli import cli

LINE = re.compile(r"^(?P<file>[\w./-]+):(?P<line>\d+): (?P<column>[^:]+): (?P<reason>.+)$")


def read(root: Path, table: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, records and the physical line each record starts on."""
    text = (root / "csv" / f"{table}.csv").read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    records, lines, start = [], [], reader.line_num + 1
    for record in reader:
        records.append(record)
        lines.append(start)
        start = reader.line_num + 1
    return header, records, lines


def write(root: Path, table: str, header: list[str], records: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(records)
    (root / "csv" / f"{table}.csv").write_text(out.getvalue(), encoding="utf-8")


def set_cell(root: Path, table: str, column: str, value: str, row: int = 0) -> int:
    header, records, lines = read(root, table)
    records[row][header.index(column)] = value
    write(root, table, header, records)
    return lines[row]


def duplicate_first_row(root: Path, table: str) -> int:
    header, records, _lines = read(root, table)
    write(root, table, header, [*records, records[0]])
    return read(root, table)[2][-1]


def rewrite_bytes(root: Path, table: str, change: Callable[[bytes], bytes]) -> None:
    path = root / "csv" / f"{table}.csv"
    path.write_bytes(change(path.read_bytes()))


def case_duplicate_id(root: Path):
    return "csv/agreements.csv", duplicate_first_row(root, "agreements"), "id", "duplicate id"


def case_unknown_foreign_key(root: Path):
    line = set_cell(root, "agreements", "document_id", "hh-pa-1999")
    return "csv/agreements.csv", line, "document_id", "'hh-pa-1999' does not exist in csv/documents.csv"


def case_missing_source(root: Path):
    line = set_cell(root, "specifications", "source_id", "")
    return "csv/specifications.csv", line, "source_id", "is empty but required"


def case_unknown_source(root: Path):
    line = set_cell(root, "themes", "source_id", "S999")
    return "csv/themes.csv", line, "source_id", "'S999' does not exist in csv/sources.csv"


def case_wrong_type(root: Path):
    line = set_cell(root, "documents", "period_start", "twintig")
    return "csv/documents.csv", line, "period_start", "'twintig' is not a whole number"


def case_decimal_comma(root: Path):
    line = set_cell(root, "specifications", "value", "5,5")
    return "csv/specifications.csv", line, "value", "point as decimal separator"


def case_date_that_does_not_exist(root: Path):
    line = set_cell(root, "sources", "published_on", "2023-02-30")
    return "csv/sources.csv", line, "published_on", "not a date that exists"


def case_malformed_date(root: Path):
    line = set_cell(root, "sources", "published_on", "25-02-2024")
    return "csv/sources.csv", line, "published_on", "write YYYY, YYYY-MM or YYYY-MM-DD"


def case_unknown_enum(root: Path):
    line = set_cell(root, "agreements", "kind", "wens")
    return "csv/agreements.csv", line, "kind", "use one of: actiepunt, procesafspraak"


def case_bad_boolean(root: Path):
    line = set_cell(root, "agreements", "kind_in_source", "yes")
    return "csv/agreements.csv", line, "kind_in_source", "write ja or nee"


def case_out_of_range(root: Path):
    line = set_cell(root, "themes", "priority_rank", "0")
    return "csv/themes.csv", line, "priority_rank", "below the minimum 1"


def case_too_long(root: Path):
    line = set_cell(root, "partners", "name", "x" * 500)
    return "csv/partners.csv", line, "name", "at most 200 are allowed"


def case_successor_cycle(root: Path):
    header, records, lines = read(root, "partners")
    ids = [r[header.index("id")] for r in records]
    a, b = ids[0], ids[1]
    records[0][header.index("successor_id")] = b
    records[1][header.index("successor_id")] = a
    write(root, "partners", header, records)
    return "csv/partners.csv", min(lines[0], lines[1]), "successor_id", "cycle"


def case_semicolons(root: Path):
    rewrite_bytes(root, "documents", lambda b: b.replace(b",", b";"))
    return "csv/documents.csv", 1, "(file)", "separated by semicolon"


def case_windows_1252(root: Path):
    header, records, lines = read(root, "partners")
    records = [[cell.encode("ascii", "replace").decode() for cell in r] for r in records]
    records[0][header.index("name")] = "Huurdersvereniging Oet en Thoes ë"
    write(root, "partners", header, records)
    rewrite_bytes(root, "partners", lambda b: b.decode("utf-8").encode("cp1252"))
    return "csv/partners.csv", lines[0], "byte", "not valid UTF-8"


def case_byte_order_mark(root: Path):
    rewrite_bytes(root, "themes", lambda b: b"\xef\xbb\xbf" + b)
    return "csv/themes.csv", 1, "(file)", "byte-order mark"


def case_crlf(root: Path):
    rewrite_bytes(root, "coverage", lambda b: b.replace(b"\n", b"\r\n"))
    return "csv/coverage.csv", 1, "(file)", "CR LF"


def case_empty_file(root: Path):
    rewrite_bytes(root, "agreements", lambda _b: b"")
    return "csv/agreements.csv", 1, "(file)", "file is empty"


def case_missing_file(root: Path):
    (root / "csv" / "themes.csv").unlink()
    return "csv/themes.csv", 1, "(file)", "file is missing"


def case_missing_column(root: Path):
    header, records, _ = read(root, "sources")
    i = header.index("publisher")
    write(root, "sources", header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in records])
    return "csv/sources.csv", 1, "publisher", "column 'publisher' is missing"


def case_renamed_column(root: Path):
    rewrite_bytes(root, "documents", lambda b: b.replace(b"summary_en", b"samenvatting_en", 1))
    return "csv/documents.csv", 1, "samenvatting_en", "unknown column 'samenvatting_en'"


def case_ragged_row(root: Path):
    header, records, lines = read(root, "themes")
    records[0] = records[0][:-2]
    write(root, "themes", header, records)
    return "csv/themes.csv", lines[0], "(row)", "cells but the header has"


def case_broken_quoting(root: Path):
    rewrite_bytes(root, "documents", lambda b: b + b'"unterminated,quote\n')
    return "csv/documents.csv", None, "(row)", "broken quoting"


def case_unknown_file(root: Path):
    (root / "csv" / "notities.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return "csv/notities.csv", 1, "(file)", "not described in datapackage.yaml"


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_refused_cleanly(name: str, project_copy: Path) -> None:
    runner = CliRunner()
    db = project_copy / "build" / "site.db"
    good = runner.invoke(cli, ["--root", str(project_copy), "build", "--output", str(db)])
    assert good.exit_code == 0, good.output
    before = db.read_bytes()

    expected_file, expected_line, expected_column, reason = CASES[name](project_copy)
    result = runner.invoke(cli, ["--root", str(project_copy), "build", "--output", str(db)])

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    messages = [LINE.match(line) for line in result.output.splitlines()[:-1]]
    assert all(messages), result.output
    hits = [m for m in messages if m["file"] == expected_file and reason in m["reason"]]
    assert hits, f"no message for {expected_file} containing {reason!r} in:\n{result.output}"
    hit = hits[0]
    assert hit["column"].startswith(expected_column), hit.group(0)
    if expected_line is not None:
        assert int(hit["line"]) == expected_line, hit.group(0)
    assert "nothing was written" in result.output.splitlines()[-1]
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["site.db"]


def test_several_problems_are_reported_at_once(project_copy: Path) -> None:
    case_unknown_enum(project_copy)
    case_wrong_type(project_copy)
    case_semicolons_in = case_byte_order_mark(project_copy)
    result = CliRunner().invoke(cli, ["--root", str(project_copy), "validate"])
    assert result.exit_code == 1
    files = {line.split(":")[0] for line in result.output.splitlines()[:-1]}
    assert {"csv/agreements.csv", "csv/documents.csv", case_semicolons_in[0]} <= files


def test_cli_prints_no_traceback_as_a_real_process(project_copy: Path) -> None:
    import subprocess
    import sys

    case_windows_1252(project_copy)
    proc = subprocess.run([sys.executable, "-m", "loaders", "--root", str(project_copy), "validate"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("csv/partners.csv:")
