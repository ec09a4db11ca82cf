"""Unit tests of the loader's input checks: what they refuse and, as important, what they let through."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from loaders.build import build
from loaders.encoding import UnprovenEncoding, decode_proven
from loaders.filecheck import FORMULA
from loaders.files import UnreadableInput, read_input
from loaders.problems import Problem, visible
from loaders.schema import Package
from loaders.validate import validate
from loaders.values import integer_problem, number_problem, partial_date_problem, url_problem
from tests.test_bad_input import make_project


@pytest.mark.parametrize("text", ["=1+1", "=HYPERLINK(\"x\")", "+cmd|' /C calc'!A0", "-cmd|' /C calc'!A0", "@SUM(A1)",
                                  "-2+3", "- eerste punt", "\t=1", " =1", "\uff1d1", "\uff0bcmd", "@x", "+ a"])
def test_formula_starts_are_found(text: str) -> None:
    assert FORMULA.match(text)


@pytest.mark.parametrize("text", ["Gemeente", "5 woningen", "-5 woningen minder", "+31 50 123 4567", "-5%", "-",
                                  "-12,5 procent", "e-mail", "1+1", "Sloop (+ nieuwbouw)", "@"])
def test_text_that_is_not_a_formula_passes(text: str) -> None:
    assert not FORMULA.match(text)


@pytest.mark.parametrize(("value", "fragment"), [
    ("Infinity", "not a finite number"), ("-inf", "not a finite number"), ("NaN", "not a finite number"),
    ("1e400", "too large for the database"), ("1e-400", "stored as 0.0"), ("0.30000000000000000001", "more digits"),
    ("9223372036854775808", "too large"), ("1_000", "not written as a plain number"), (" 5", "plain number"),
    (".5", "plain number"), ("5.", "plain number"), ("\uff15", "plain number")])
def test_numbers_the_database_cannot_store_as_written(value: str, fragment: str) -> None:
    assert fragment in (number_problem(value) or "")


@pytest.mark.parametrize("value", ["0", "-5", "907.71", "0.1", "1e3", "1.5E-3", "9223372036854775807",
                                   "9007199254740993", "53.4012345"])
def test_numbers_stored_exactly_pass(value: str) -> None:
    assert number_problem(value) is None


def test_integers_within_64_bits_pass_and_others_do_not() -> None:
    assert integer_problem("-9223372036854775808") is None
    assert "too large" in (integer_problem("-9223372036854775809") or "")
    assert "plain whole number" in (integer_problem("\u0662\u0660\u0662\u0664") or "")
    assert integer_problem("12a") is None  # frictionless reports that one


@pytest.mark.parametrize("url", ["https://example.org", "http://example.org/a?b=c#d", "https://nl.wikipedia.org/wiki/Één",
                                 "https://example.org:8443/x", "HTTPS://EXAMPLE.ORG/"])
def test_web_addresses_pass(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(("url", "fragment"), [
    ("javascript:alert(1)", "javascript: address"), ("JAVASCRIPT:alert(1)", "javascript: address"),
    ("data:text/html;base64,AAAA", "data: address"), ("vbscript:x", "vbscript: address"),
    ("file:///etc/passwd", "file: address"), ("//example.org/x", "not a full web address"),
    ("https://", "no host name"), ("https:///x", "no host name"), ("http://u:p@example.org", "user name or password"),
    ("https://example.org/a b", "contains ' '"), ("https://example.org/\u00a0", "contains '<U+00A0>'"),
    ("https://example.org/<x>", "contains '<'"), ("java\nscript:x", "contains '<U+000A>'"),
    ("https://example.org:99999999/", "port")])
def test_other_addresses_are_refused(url: str, fragment: str) -> None:
    assert fragment in (url_problem(url) or "")


def test_partial_dates() -> None:
    years = (1800, 2100)
    for good in ("1800", "2100", "2024-02", "2024-02-29"):
        assert partial_date_problem(good, years) is None
    for bad, fragment in (("0000", "year 0000 is outside 1800-2100"), ("2101-01", "year 2101"),
                          ("1799-12-31", "year 1799"), ("2024-ab", "is not a date"), ("2024-13", "no month 13"),
                          ("2023-02-29", "not a date that exists"), ("2024\n", "is not a date"),
                          ("\uff12\uff10\uff12\uff14", "is not a date")):
        assert fragment in (partial_date_problem(bad, years) or ""), bad


def test_the_year_range_comes_from_the_descriptor(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    descriptor = root / "datapackage.yaml"
    text = descriptor.read_text(encoding="utf-8")
    assert "partialDateYears: {minimum: 1800, maximum: 2100}" in text
    descriptor.write_text(text.replace("partialDateYears: {minimum: 1800, maximum: 2100}",
                                       "partialDateYears: {minimum: 2024, maximum: 2030}"), encoding="utf-8")
    messages = [str(p) for p in validate(Package.load(root))]
    assert "csv/sources.csv:3: published_on: '2023': year 2023 is outside 2024-2030, the years datapackage.yaml " \
           "allows (partialDateYears); check the date" in messages


def test_messages_are_one_line_and_show_invisible_characters() -> None:
    problem = Problem("csv/x.csv", 3, "name", "'a\u200bb\u00a0c\ufeff\u0085\n\u202e' is wrong")
    assert str(problem) == "csv/x.csv:3: name: 'a<U+200B>b<U+00A0>c<U+FEFF><U+0085><U+000A><U+202E>' is wrong"
    assert visible("één naïef € – “x”") == "één naïef € – “x”"


def test_numbers_above_2_to_the_53_are_stored_exactly(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    path = root / "csv" / "specifications.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",547,", ",9007199254740993,"), encoding="utf-8")
    package = Package.load(root)
    assert validate(package) == []
    build(package, tmp_path / "x.db", progress=lambda _m: None)
    conn = sqlite3.connect(tmp_path / "x.db")
    try:
        assert conn.execute("select value from specifications where id = 'spec-1'").fetchone()[0] == 9007199254740993
    finally:
        conn.close()


def test_a_symlink_inside_the_repository_is_read(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "data").mkdir()
    (root / "csv" / "themes.csv").rename(root / "data" / "themes.csv")
    (root / "csv" / "themes.csv").symlink_to(Path("..") / "data" / "themes.csv")
    assert validate(Package.load(root)) == []


def test_devices_and_links_out_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInput, match="is a character device"):
        read_input(Path("/dev/null"))
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(UnreadableInput, match=r"leads outside the repository \(to /dev/zero\)"):
        read_input(tmp_path / "zero", tmp_path)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 100)
    with pytest.raises(UnreadableInput, match="100 bytes, more than the 99"):
        read_input(big, tmp_path, limit=99)
    assert read_input(big, tmp_path, limit=100) == b"x" * 100
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UnreadableInput, match="named pipe"):
        read_input(tmp_path / "pipe", tmp_path)


@pytest.mark.parametrize(("data", "encoding"), [
    ("één".encode(), "UTF-8"), (b"\xef\xbb\xbf" + "één".encode(), "UTF-8 with byte-order mark"),
    ("één".encode("utf-16"), "UTF-16"), ("één, naïef, CAFÉ, auto 5°C, € 5, “quote”".encode("cp1252"), "Windows-1252"),
    ("3 à 4 woningen – Tëst".encode("cp1252"), "Windows-1252")])
def test_encodings_the_bytes_prove(data: bytes, encoding: str) -> None:
    text, found = decode_proven(data)
    assert found == encoding
    assert "één" in text or "Tëst" in text


@pytest.mark.parametrize(("data", "fragment"), [
    ("Tèst".encode("mac_roman"), "neither UTF-8 nor Windows-1252"),
    ("één".encode("mac_roman"), "in Mac Roman"),
    ("Gemeente Tëst, “x”".encode("mac_roman"), "in Mac Roman"),
    ("auto’s".encode("cp1252"), "do not tell which"),
    ("één".encode() + b" T\xebst", "mixes two encodings"),
    (b"\xef\xbb\xbf" + b"T\xebst", "mixes two encodings")])
def test_encodings_the_bytes_do_not_prove_are_refused(data: bytes, fragment: str) -> None:
    with pytest.raises(UnprovenEncoding, match=fragment):
        decode_proven(data)
