"""Provenance: which columns must say only what the row's source states, and the checks that follow.

Every field in datapackage.yaml declares `provenance` (a custom Table Schema property):

  source   stated by the source: figures, dates, names, links between rows, and our own-words summaries of what
           the source says. Such a value needs a source on its row (the column `sourceColumn` names, on the field
           or the resource; `source_id` when neither names one).
  ours     ours: keys, classifications and bookkeeping (ids, kinds, theme keys, the source reference itself).
  remarks  the notes: remarks, disagreeing sources and inferences. The only place for an inference, which starts
           with the marker `AFLEIDING:`.

What the loader checks (a human still has to read the source; this catches the mistakes a machine can see):

1. every field declares one of the three, and every `source` field has a source column in its table;
2. no column outside `remarks` holds inference wording (AFLEIDING, inference, waarschijnlijk, ...);
3. in `remarks`, an inference is marked `AFLEIDING:` and hedged words stand inside such a marked sentence;
4. a row with a value in a `source` column has a source in that column's source column;
5. an `AFLEIDING:` sentence never names a `source` column that holds a value: an inference may explain why a
   sourced cell is empty, never fill it (so it cannot change a total, a count or a chart).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .problems import Problem
from .schema import DESCRIPTOR_NAME, Field, Package, Resource

PROVENANCE = ("source", "ours", "remarks")
LABELS = {
    "source": ("bron: zegt alleen wat de bron van de rij zegt", "source: says only what the row's source states"),
    "ours": ("eigen: sleutel, indeling of administratie van ons", "ours: our key, classification or bookkeeping"),
    "remarks": ("toelichting: opmerkingen; afleidingen alleen hier, als AFLEIDING:",
                "remarks: notes; inferences only here, marked AFLEIDING:"),
}
MARKER = "AFLEIDING:"
DEFAULT_SOURCE_COLUMN = "source_id"
# Words that mark a conclusion of ours rather than a statement of the source.
INFERENCE_WORDS = re.compile(
    r"\b(afleiding|inference|inferred|afgeleid|vermoedelijk|waarschijnlijk|vrijwel zeker|probably|presumably)\b",
    re.IGNORECASE)
# A part of every word INFERENCE_WORDS matches, in lower case (see _may_hold_inference_words).
INFERENCE_STEMS = ("afleid", "infer", "afgeleid", "vermoed", "waarschijnlijk", "vrijwel zeker", "probabl", "presumabl")
# Hedged words that may stand in notes, but only inside a sentence marked AFLEIDING:.
HEDGES = re.compile(r"\b(vermoedelijk|waarschijnlijk|vrijwel zeker|probably|presumably)\b", re.IGNORECASE)
# Every word the checks of a remarks cell look for: a cell without any of them has nothing to check.
REMARK_WORDS = re.compile(r"afleiding|vermoedelijk|waarschijnlijk|vrijwel zeker|probably|presumably", re.IGNORECASE)
# The same words in lower case (see _may_hold): a substring test per word costs a fraction of REMARK_WORDS' search.
REMARK_STEMS = ("afleiding", "vermoedelijk", "waarschijnlijk", "vrijwel zeker", "probably", "presumably")
# An AFLEIDING: sentence runs to the first full stop followed by a space and a capital, or to the end.
MARKED_SENTENCE = re.compile(r"AFLEIDING:.*?(?=\.\s+[A-Z]|$)", re.DOTALL)


def provenance(field: Field) -> str | None:
    value = field.raw.get("provenance")
    return str(value) if value is not None else None


def label(field: Field) -> tuple[str, str]:
    """The Dutch and English words the documentation shows for a field's provenance."""
    return LABELS.get(provenance(field) or "", ("", ""))


def source_column(package: Package, resource: Resource, field: Field) -> str:
    raw = _raw_resource(package, resource)
    return str(field.raw.get("sourceColumn") or raw.get("sourceColumn") or DEFAULT_SOURCE_COLUMN)


def descriptor_problems(package: Package) -> list[Problem]:
    """Problems of the declarations themselves; while there are any, rows are not checked (check 1)."""
    return _descriptor_problems(package)


def _raw_resource(package: Package, resource: Resource) -> dict[str, Any]:
    for raw in package.raw["resources"]:
        if raw["name"] == resource.name:
            return dict(raw)
    raise KeyError(resource.name)


def _descriptor_problems(package: Package) -> list[Problem]:
    problems = []
    for resource in package.resources:
        for field in resource.fields:
            where = f"{resource.name}.{field.name}"
            kind = provenance(field)
            if kind not in PROVENANCE:
                problems.append(Problem(DESCRIPTOR_NAME, 1, where, f"provenance is {kind!r}; declare one of "
                                        "source (stated by the source), ours (key or classification) or remarks "
                                        "(notes, where inferences go)"))
            elif kind == "source" and source_column(package, resource, field) not in resource.field_names:
                problems.append(Problem(DESCRIPTOR_NAME, 1, where, f"is stated by a source, but the table has no "
                                        f"column {source_column(package, resource, field)!r} for that source; "
                                        "add it or set sourceColumn"))
    return problems


def row_checker(package: Package, resource: Resource) -> Callable[[list[str], int], list[Problem]]:
    """Checks 2 to 5 on one record (cells in the table's column order) at a time, as the loader streams it.

    One search over a record's text cells comes first: most records hold no inference wording, and one search
    per record costs less than one per cell."""
    index = {name: i for i, name in enumerate(resource.field_names)}
    sourced = [(name, index[name], source, index[source]) for name, source in
               ((f.name, source_column(package, resource, f)) for f in resource.fields if provenance(f) == "source")]
    texts = [(f.name, index[f.name]) for f in resource.fields if f.type == "string" and provenance(f) != "remarks"]
    remarks = [(f.name, index[f.name]) for f in resource.fields if provenance(f) == "remarks"]
    text_columns = [i for _, i in texts]
    # The sourced columns per source column: a row whose source is filled (the common case) needs one test.
    by_source: dict[int, list[tuple[str, int, str]]] = {}
    for name, i, source, s in sourced:
        by_source.setdefault(s, []).append((name, i, source))
    path = resource.path

    def check(record: list[str], line: int) -> list[Problem]:
        problems: list[Problem] = []

        def problem(column: str, text: str) -> None:
            problems.append(Problem(path, line, column, text))

        if text_columns and _may_hold_inference_words("\n".join([record[i] for i in text_columns])):
            for name, i in texts:
                found = INFERENCE_WORDS.search(record[i])
                if found:
                    problem(name, f"'{found.group(0)}' is inference wording; this column holds only what the "
                            f"source states or our classification; move the inference to notes as '{MARKER} …'")
        for s, columns in by_source.items():
            if record[s].strip():
                continue
            for name, i, source in columns:
                if record[i].strip():
                    problem(name, f"has a value but no source in {source}; cite the source that states it or "
                            "empty the cell")
        for name, i in remarks:
            text = record[i]
            if text and _may_hold(text, REMARK_STEMS) and REMARK_WORDS.search(text):
                _remark_problems(text, name, record, sourced, problem)
        return problems

    return check


def _may_hold_inference_words(text: str) -> bool:
    """False only when INFERENCE_WORDS cannot match: substring tests cost a fraction of its search."""
    return _may_hold(text, INFERENCE_STEMS)


def _may_hold(text: str, stems: tuple[str, ...]) -> bool:
    """False only when no pattern that ignores case and holds one of the lower-case `stems` can match. The
    non-ASCII characters that IGNORECASE matches to ASCII letters (K, ſ, İ, ı) are folded first."""
    folded = text.casefold()
    if not folded.isascii():
        folded = folded.replace("\u0131", "i").replace("\u0307", "")
    return any(map(folded.__contains__, stems))  # map, not a generator: no Python frame per stem


def _remark_problems(text: str, name: str, record: list[str], sourced: list[tuple[str, int, str, int]],
                     problem: Callable[[str, str], None]) -> None:
    for word in re.finditer(r"afleiding:?", text, re.IGNORECASE):
        if word.group(0) != MARKER:
            problem(name, f"'{word.group(0)}': write an inference as '{MARKER} …' (capitals and colon)")
    marked = [m.span() for m in MARKED_SENTENCE.finditer(text)]
    for hedge in HEDGES.finditer(text):
        if not any(start <= hedge.start() < end for start, end in marked):
            problem(name, f"'{hedge.group(0)}' outside a sentence marked {MARKER}; mark the inference")
    for sentence in MARKED_SENTENCE.findall(text):
        for column, i, _source, _s in sourced:
            if re.search(rf"\b{re.escape(column)}\b", sentence) and record[i].strip():
                problem(column, f"is filled by an inference (the {MARKER} sentence in {name} names it); "
                        "an inference may explain an empty cell, never fill it; empty the cell or cite a "
                        "source that states the value")
