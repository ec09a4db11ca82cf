"""Validate every CSV of the package and report every problem at once, as file:line: column: text.

Order: structural checks per file (what kind of file, encoding, delimiter, header, quoting),
then frictionless for types, constraints, primary and foreign keys on the files that are
structurally sound, then the checks Table Schema cannot express (dates that do not exist,
years outside the declared range, numbers the database cannot store, web addresses that
are not http(s), rows that refer to themselves in a cycle, files nobody described). A cell
frictionless already reported is not reported twice.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from frictionless import Package as FrictionlessPackage
from frictionless import system

from .filecheck import FileReport, check_file
from .files import UnreadableInput, open_input
from .problems import Problem, shown
from .provenance import provenance_problems
from .schema import DESCRIPTOR_NAME, Package, Resource
from .values import integer_problem, number_problem, partial_date_problem, url_problem

TYPE_HINTS = {
    "integer": "a whole number such as 2024, without spaces or thousands separators",
    "number": "a number with a point as decimal separator, such as 5600 or 12.5 (no thousands separators)",
    "boolean": "one of the allowed values",
    "date": "a date written YYYY-MM-DD",
}


def validate(package: Package) -> list[Problem]:
    problems: list[Problem] = label_problems(package)
    reports: dict[str, FileReport] = {}
    for resource in package.resources:
        report = check_file(resource, package.root / resource.path, resource.path, package.root)
        reports[resource.name] = report
        problems.extend(report.problems)
    problems.extend(_undescribed_files(package))
    sound = [r for r in package.resources if reports[r.name].ok]
    typed = _frictionless_problems(package, sound, reports)
    problems.extend(typed)
    problems.extend(_foreign_key_problems(package, sound, reports))
    reported = {(p.path, p.line, p.column) for p in typed}
    for resource in sound:
        own = _partial_date_problems(package, resource, reports[resource.name])
        own += _value_problems(package, resource, reports[resource.name])
        problems.extend(p for p in own if (p.path, p.line, p.column) not in reported)
        problems.extend(_link_cycles(package, resource, reports[resource.name]))
    problems.extend(provenance_problems(package, sound, reports))
    return sorted(set(problems))


# A column heading, not a sentence: the description says the rest.
LABEL_MAX_LENGTH = 40


def label_problems(package: Package) -> list[Problem]:
    """Every field has a short Dutch label (Table Schema `title`), the heading the site shows for its column,
    and no two columns of one table share a heading."""
    problems = []
    for resource in package.resources:
        seen: dict[str, str] = {}
        for f in resource.fields:
            line = package.field_line(resource.name, f.name)
            where = f"{resource.name}.{f.name}"
            raw = f.raw.get("title")
            if not isinstance(raw, str) or not f.title:
                problems.append(Problem(DESCRIPTOR_NAME, line, where, "has no title; add a short Dutch label "
                                        "(title: ...) that the site shows as the column's heading"))
            elif len(f.title) > LABEL_MAX_LENGTH:
                problems.append(Problem(DESCRIPTOR_NAME, line, where, f"title '{shown(f.title)}' is {len(f.title)} "
                                        f"characters; a heading has at most {LABEL_MAX_LENGTH}: shorten it and "
                                        "leave the rest to the description"))
            elif f.title.casefold() in seen:
                problems.append(Problem(DESCRIPTOR_NAME, line, where, f"title '{shown(f.title)}' is also the title "
                                        f"of {seen[f.title.casefold()]}; give every column of a table its own "
                                        "heading"))
            if f.title:
                seen.setdefault(f.title.casefold(), f.name)
    return problems


def _undescribed_files(package: Package) -> list[Problem]:
    described = {str(Path(r.path)) for r in package.resources}
    folders = {Path(r.path).parent for r in package.resources}
    problems = []
    for folder in sorted(folders):
        for path in sorted((package.root / folder).glob("*")):
            relative = str(path.relative_to(package.root))
            if path.is_file() and relative not in described:
                problems.append(Problem(relative, 1, "(file)", "file is not described in datapackage.yaml; "
                                        "add a resource for it there, or move the file out of this folder"))
    return problems


def _frictionless_descriptor(package: Package, sound: list[Resource]) -> dict[str, Any]:
    """The package limited to sound files, without foreign keys: _foreign_key_problems checks those
    from the text already read (frictionless would open every referenced file again for every
    table that refers to it, which was most of its time)."""
    names = {r.name for r in sound}
    resources = []
    for raw in package.raw["resources"]:
        if raw["name"] not in names:
            continue
        raw = {**raw, "schema": {**raw["schema"], "foreignKeys": []}}
        resources.append(raw)
    return {"name": package.raw.get("name", "package"), "resources": resources}


def _frictionless_problems(
    package: Package, sound: list[Resource], reports: dict[str, FileReport]
) -> list[Problem]:
    if not sound:
        return []
    with system.use_context(trusted=True):
        fpackage = FrictionlessPackage(_frictionless_descriptor(package, sound), basepath=str(package.root))
        report = fpackage.validate(limit_errors=10_000)
    problems = []
    by_name = {r.name: r for r in sound}
    for task in report.tasks:
        resource = by_name[task.name]
        for error in task.errors:
            problems.append(_translate(resource, reports[resource.name], error))
    return problems


def _translate(resource: Resource, report: FileReport, error: Any) -> Problem:
    row_number = getattr(error, "row_number", None) or 1
    line = report.line_of_record(row_number)
    kind = error.type
    note = getattr(error, "note", "") or ""
    cell = getattr(error, "cell", None)
    column = getattr(error, "field_name", None) or "(row)"
    if kind == "type-error":
        field = resource.field(column)
        expected = TYPE_HINTS.get(field.type, field.type)
        if field.type == "boolean":
            allowed = " or ".join(field.true_values + field.false_values)
            return Problem(resource.path, line, column, f"'{shown(cell)}' is not allowed; write {allowed}")
        if field.raw.get("format") == "uri":
            return Problem(resource.path, line, column, f"'{shown(cell)}' is not a web address; write the full "
                           "address, starting with https:// or http://")
        return Problem(resource.path, line, column, f"'{shown(cell)}' is not {expected}; write {expected}")
    if kind == "constraint-error":
        return Problem(resource.path, line, column, _constraint_message(resource, column, cell, note))
    if kind == "primary-key":
        key = ",".join(resource.primary_key)
        match = re.search(r"row at position (\d+)", note)
        first = f" (line {report.line_of_record(int(match.group(1)))})" if match else ""
        values = ",".join(_cell_of(error, resource, name) for name in resource.primary_key)
        return Problem(resource.path, line, key, f"duplicate {key} '{shown(values)}': an earlier row{first} has the "
                       f"same; give every row its own {key}")
    if kind == "unique-error":
        return Problem(resource.path, line, column, f"'{shown(cell)}' is not unique; change one of them")
    return Problem(resource.path, line, column, shown(error.message, 300))


def _constraint_message(resource: Resource, column: str, cell: Any, note: str) -> str:
    field = resource.field(column)
    constraints = field.raw.get("constraints") or {}
    if note.startswith('constraint "required"'):
        return "is empty but required; fill it in"
    if note.startswith('constraint "enum"'):
        return f"'{shown(cell)}' is not an allowed value; use one of: {', '.join(field.enum)}"
    if note.startswith('constraint "pattern"'):
        if field.partial_date:
            return f"'{shown(cell)}' is not a date; write YYYY, YYYY-MM or YYYY-MM-DD"
        return f"'{shown(cell)}' has the wrong form; it must match the pattern {constraints.get('pattern')}"
    if note.startswith('constraint "maxLength"'):
        return (f"text is {len(str(cell))} characters, at most {constraints.get('maxLength')} are allowed; "
                "shorten it")
    if note.startswith(('constraint "minimum"', 'constraint "maximum"')) and not Decimal(str(cell)).is_finite():
        return f"'{shown(cell)}' is not a finite number; write the number itself"
    if note.startswith('constraint "minimum"'):
        return f"{shown(cell)} is below the minimum {constraints.get('minimum')}; check the value"
    if note.startswith('constraint "maximum"'):
        return f"{shown(cell)} is above the maximum {constraints.get('maximum')}; check the value"
    return shown(note, 300)


def _foreign_key_problems(package: Package, sound: list[Resource], reports: dict[str, FileReport]) -> list[Problem]:
    """Every reference must exist in the table it points to. References into a file that is not sound
    are not checked: that file has its own error, and every reference would otherwise be reported."""
    by_name = {r.name: r for r in sound}
    keys: dict[tuple[str, tuple[str, ...]], set[tuple[str, ...]]] = {}
    problems = []
    for resource in sound:
        checks = []
        for fk in resource.foreign_keys:
            target = by_name.get(fk.resource)
            if target is None:
                continue
            if (fk.resource, fk.reference_fields) not in keys:
                keys[(fk.resource, fk.reference_fields)] = {
                    tuple(row[f] for f in fk.reference_fields) for row in _rows(package, target, reports[target.name])}
            checks.append((fk, target.path, keys[(fk.resource, fk.reference_fields)]))
        if not checks:
            continue
        for index, row in enumerate(_rows(package, resource, reports[resource.name]), start=1):
            for fk, target_path, wanted in checks:
                values = tuple(row[f] for f in fk.fields)
                if all(values) and values not in wanted:
                    problems.append(Problem(
                        resource.path, reports[resource.name].line_of_record(index + 1), ",".join(fk.fields),
                        f"'{shown(','.join(values))}' does not exist in {target_path} "
                        f"({','.join(fk.reference_fields)}); add that row there or correct the reference"))
    return problems


def _cell_of(error: Any, resource: Resource, name: str) -> str:
    cells = getattr(error, "cells", None) or []
    index = resource.field_names.index(name)
    return str(cells[index]) if index < len(cells) and cells[index] is not None else ""


def _rows(package: Package, resource: Resource, report: FileReport | None = None) -> Any:
    """The records of a sound file as dicts, streamed (holding every table's text at once would cost
    as much memory as the data); a file that became unreadable since check_file yields nothing here
    and is refused by the build."""
    try:
        with open_input(package.root / resource.path, package.root) as raw, \
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
            yield from csv.DictReader(f)
    except (UnreadableInput, UnicodeDecodeError):
        return


def _partial_date_problems(package: Package, resource: Resource, report: FileReport) -> list[Problem]:
    date_fields = [f.name for f in resource.fields if f.partial_date]
    if not date_fields:
        return []
    years = package.partial_date_years
    problems = []
    for index, row in enumerate(_rows(package, resource, report), start=1):
        for name in date_fields:
            value = row.get(name) or ""
            reason = partial_date_problem(value, years) if value else None
            if reason:
                problems.append(Problem(resource.path, report.line_of_record(index + 1), name, reason))
    return problems


def _value_problems(package: Package, resource: Resource, report: FileReport) -> list[Problem]:
    """Numbers the database cannot store as written, and web addresses that are not http(s) with a host."""
    checks = {}
    for field in resource.fields:
        if field.type == "integer":
            checks[field.name] = integer_problem
        elif field.type == "number":
            checks[field.name] = number_problem
        elif field.raw.get("format") == "uri":
            checks[field.name] = url_problem
    if not checks:
        return []
    problems = []
    for index, row in enumerate(_rows(package, resource, report), start=1):
        for name, check in checks.items():
            value = row.get(name) or ""
            reason = check(value) if value else None
            if reason:
                problems.append(Problem(resource.path, report.line_of_record(index + 1), name, reason))
    return problems


def _link_cycles(package: Package, resource: Resource, report: FileReport) -> list[Problem]:
    """Every foreign key from a table into itself (successor_id, part_of_id, represents_id ...) must end
    somewhere: a row that is, directly or through other rows, its own successor or its own part would
    drop out of every total and every chain. Each cycle is named once, at its first line in the file."""
    problems = []
    for key, column in resource.self_links:
        target: dict[str, str] = {}
        lines: dict[str, int] = {}
        for index, row in enumerate(_rows(package, resource, report), start=1):
            lines.setdefault(row[key], report.line_of_record(index + 1))
            if row.get(column):
                target[row[key]] = row[column]
        done: set[str] = set()
        for start in target:
            path: dict[str, int] = {}
            current: str | None = start
            while current is not None and current not in done and current not in path:
                path[current] = len(path)
                current = target.get(current)
            if current is not None and current in path:
                cycle = list(path)[path[current]:]
                first = min(range(len(cycle)), key=lambda i: lines.get(cycle[i], 0))
                cycle = cycle[first:] + cycle[:first]
                chain = " -> ".join(shown(c) for c in [*cycle, cycle[0]])
                problems.append(Problem(resource.path, lines.get(cycle[0], 1), column,
                                        f"{column} links form a cycle ({chain}); a row cannot refer to itself, "
                                        "directly or through other rows: correct or empty one of these cells"))
            done.update(path)
    return problems


# bench/fastcheck.py (a prototype) still calls the cycle check by its former name.
_successor_cycles = _link_cycles
