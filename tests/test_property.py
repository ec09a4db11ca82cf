"""Property: whatever bytes a CSV holds, the loader gives a clean error or a valid build, never a crash,
and a failed build leaves the previous outputs as they were."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders import filecheck, provenance, rowcheck
from loaders.cli import cli
from loaders.problems import Problem
from loaders.schema import Package
from tests.test_bad_input import LINE, make_project

TABLES = ["sources", "partners", "agreements", "specifications", "themes", "projects", "places"]
# Bytes that matter to a CSV parser, mixed with anything at all.
CSV_BYTES = st.lists(st.sampled_from([b",", b";", b'"', b"\n", b"\r\n", b"\r", b"\t", b"\x00", b"\xef\xbb\xbf",
                                      b"\xeb", b"S001", b"doc-2024", b"2024-02-30", b"=1+1", b"<b>", b"x" * 300,
                                      b"\xc2\x85", b"\xe2\x80\x8b", b"\xc2\xa0", b"Infinity", b"1e400", b"-",
                                      b"99999999999999999999", b"0000", b"2024-ab", b"javascript:", b"+cmd|",
                                      b"corp-a", b"proj-sloop"]),
                     max_size=40).map(b"".join)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The outputs of the valid package, built once and copied into every example."""
    root = make_project(tmp_path_factory.mktemp("prop-base"))
    result = CliRunner().invoke(cli, ["--root", str(root), "build", "--output", str(root / "build" / "site.db")])
    assert result.exit_code == 0, result.output
    outputs = {p.name: p.read_bytes() for p in (root / "build").iterdir()}
    shutil.rmtree(root.parent)
    return outputs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.sampled_from(TABLES), mode=st.sampled_from(["replace", "append", "prefix"]),
       noise=st.one_of(CSV_BYTES, st.binary(max_size=200)))
def test_random_bytes_never_crash_the_loader(tmp_path_factory, built: dict[str, bytes], table: str, mode: str,
                                             noise: bytes) -> None:
    root = make_project(tmp_path_factory.mktemp("prop"))
    runner = CliRunner()
    output = root / "build" / "site.db"
    output.parent.mkdir()
    for name, data in built.items():
        (output.parent / name).write_bytes(data)
    before = {p.name: p.read_bytes() for p in output.parent.iterdir()}
    path = root / "csv" / f"{table}.csv"
    original = path.read_bytes()
    path.write_bytes({"replace": noise, "append": original + noise, "prefix": noise + original}[mode])

    result = runner.invoke(cli, ["--root", str(root), "build", "--output", str(output)])

    assert result.exit_code in (0, 1), (result.exit_code, result.output, result.exception)
    if result.exit_code == 1:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        lines = result.output.splitlines()
        assert lines[-1].endswith("nothing was written.")
        assert all(LINE.match(line) for line in lines[:-1]), result.output
        assert {p.name: p.read_bytes() for p in output.parent.iterdir()} == before
    shutil.rmtree(root)


# The quick looks that let a good record through with a few calls in C must never let a bad one through:
# each is compared with the full check it stands in front of, on cells built from what those checks look for.
CELL_PIECES = st.sampled_from(["", " ", "\t", "\n", "a", "Zaak", "5", "-5", "+3.5", "- item", "=1+1", "\uff1d1", "@SUM",
                               "<b>", "a < b", "\x07", "\x85", "\u200b", "\u00a0", "\ufeff", "\u2028", "ja", "2024",
                               "2024-13", "https://example.org", "javascript:x", "x" * 120, "é", " =1+1",
                               "\t@SUM", "\n- x", "\u3000+cmd"])
CELLS = st.lists(CELL_PIECES, max_size=4).map("".join)
INFERENCE_PIECES = st.sampled_from(["afleiding", "AFLEIDING:", "afgeleid", "Inference", "\u0131nferred",
                                    "\u0130nference", "pre\u017fumably", "PROBABLY", "vrijwel zeker", "Vermoedelijk",
                                    "waarschijnlijk", "\u212a", "af", "leiding", " ", "\n", "x", "é", "."])


@settings(max_examples=300, deadline=None)
@given(table=st.sampled_from(TABLES), data=st.data())
def test_the_quick_look_at_a_record_misses_no_text_problem(package: Package, table: str, data: st.DataObject) -> None:
    resource = package.resource(table)
    record = data.draw(st.lists(CELLS, min_size=len(resource.fields), max_size=len(resource.fields)))
    assert filecheck._text_checker(resource)(record, 7) == filecheck._check_text(resource, record, resource.path, 7)


@settings(max_examples=300, deadline=None)
@given(table=st.sampled_from(TABLES), data=st.data())
def test_the_checks_of_a_record_are_those_of_its_cells(package: Package, table: str, data: st.DataObject) -> None:
    resource = package.resource(table)
    record = data.draw(st.lists(CELLS, min_size=len(resource.fields), max_size=len(resource.fields)))
    cell_by_cell = set()
    for field, cell in zip(resource.fields, record, strict=True):
        check = rowcheck.field_check(package, field)
        reason = ("is empty but required; fill it in" if field.required else None) if cell == "" else \
            check(cell) if check else None
        if reason:
            cell_by_cell.add(Problem(resource.path, 7, field.name, reason))
    assert set(rowcheck.RowChecker(package, resource).problems(record, 7)) == cell_by_cell


@settings(max_examples=500, deadline=None)
@given(text=st.lists(INFERENCE_PIECES, max_size=6).map("".join))
def test_the_quick_look_for_inference_words_misses_none(text: str) -> None:
    assert provenance._may_hold_inference_words(text) or provenance.INFERENCE_WORDS.search(text) is None


@settings(max_examples=300, deadline=None)
@given(text=st.lists(INFERENCE_PIECES, max_size=6).map("".join))
def test_the_quick_look_for_remark_words_misses_none(text: str) -> None:
    assert provenance._may_hold(text, provenance.REMARK_STEMS) or provenance.REMARK_WORDS.search(text) is None
