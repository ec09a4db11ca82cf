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

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from .filecheck import FileReport
from .files import open_input
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
# Hedged words that may stand in notes, but only inside a sentence marked AFLEIDING:.
HEDGES = re.compile(r"\b(vermoedelijk|waarschijnlijk|vrijwel zeker|probably|presumably)\b", re.IGNORECASE)
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


def provenance_problems(package: Package, sound: list[Resource], reports: dict[str, FileReport]) -> list[Problem]:
    problems = _descriptor_problems(package)
    if problems:
        return problems
    for resource in sound:
        problems.extend(_row_problems(package, resource, reports[resource.name]))
    return problems


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


def _rows(package: Package, resource: Resource) -> Iterator[dict[str, str]]:
    # Through the loader's safe reader, like every other read of a CSV (loaders/files.py).
    with open_input(package.root / resource.path, package.root) as raw, \
            io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


def _row_problems(package: Package, resource: Resource, report: FileReport) -> list[Problem]:
    sourced = {f.name: source_column(package, resource, f) for f in resource.fields if provenance(f) == "source"}
    texts = [f.name for f in resource.fields if f.type == "string" and provenance(f) != "remarks"]
    remarks = [f.name for f in resource.fields if provenance(f) == "remarks"]
    problems = []
    for index, row in enumerate(_rows(package, resource), start=1):
        line = report.line_of_record(index + 1)

        def problem(column: str, text: str, line: int = line) -> None:
            problems.append(Problem(resource.path, line, column, text))

        for name in texts:
            found = INFERENCE_WORDS.search(row.get(name) or "")
            if found:
                problem(name, f"'{found.group(0)}' is inference wording; this column holds only what the source "
                        f"states or our classification; move the inference to notes as '{MARKER} …'")
        for name, source in sourced.items():
            if (row.get(name) or "").strip() and not (row.get(source) or "").strip():
                problem(name, f"has a value but no source in {source}; cite the source that states it or empty "
                        "the cell")
        for name in remarks:
            text = row.get(name) or ""
            for word in re.finditer(r"afleiding:?", text, re.IGNORECASE):
                if word.group(0) != MARKER:
                    problem(name, f"'{word.group(0)}': write an inference as '{MARKER} …' (capitals and colon)")
            marked = [m.span() for m in MARKED_SENTENCE.finditer(text)]
            for hedge in HEDGES.finditer(text):
                if not any(start <= hedge.start() < end for start, end in marked):
                    problem(name, f"'{hedge.group(0)}' outside a sentence marked {MARKER}; mark the inference")
            for sentence in MARKED_SENTENCE.findall(text):
                for column in sourced:
                    if re.search(rf"\b{re.escape(column)}\b", sentence) and (row.get(column) or "").strip():
                        problem(column, f"is filled by an inference (the {MARKER} sentence in {name} names it); "
                                "an inference may explain an empty cell, never fill it; empty the cell or cite a "
                                "source that states the value")
    return problems
