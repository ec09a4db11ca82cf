"""The checks of one table's cells, compiled once per field and run on every record as it streams past.

Types and constraints as datapackage.yaml declares them (Table Schema: integer, number, boolean, string with
format uri; required, enum, pattern, minLength, maxLength, minimum, maximum), then the checks Table Schema cannot
express (loaders/values.py: numbers the database cannot store as written, web addresses that are not http(s),
partial dates that do not exist). A cell gets at most one message: the type or constraint one when there is one.
The same rules frictionless applies (`frictionless validate datapackage.yaml` still runs in `make test`), with
this project's messages, at a fraction of the cost of frictionless' generic row loop.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from operator import gt, itemgetter
from typing import Any

import rfc3986
import rfc3986.exceptions
import rfc3986.validators

from .problems import Problem, shown
from .schema import Field, Package, Resource
from .values import INTEGER_FORM, integer_problem, number_problem, partial_date_problem, url_problem

TYPE_HINTS = {
    "integer": "a whole number such as 2024, without spaces or thousands separators",
    "number": "a number with a point as decimal separator, such as 5600 or 12.5 (no thousands separators)",
    "boolean": "one of the allowed values",
}
TYPED = ("integer", "number", "boolean")
# A cell check: the reason a non-empty cell is wrong, or None.
CellCheck = Callable[[str], "str | None"]


def _is_uri(cell: str) -> bool:
    """What frictionless accepts as `format: uri`: an RFC 3986 reference with a scheme."""
    validator = rfc3986.validators.Validator().require_presence_of("scheme")
    try:
        validator.validate(rfc3986.uri_reference(cell))
    except rfc3986.exceptions.ValidationError:
        return False
    return True


def _constraints(field: Field) -> Callable[[str, Any], str | None]:
    """The first constraint a cell breaks (value = the cell read as its type), as the message to show."""
    c = field.raw.get("constraints") or {}
    enum = frozenset(field.enum)
    pattern = re.compile(c["pattern"]) if "pattern" in c else None
    min_length, max_length = c.get("minLength"), c.get("maxLength")
    minimum, maximum = c.get("minimum"), c.get("maximum")

    def check(cell: str, value: Any) -> str | None:
        if enum and cell not in enum:
            return f"'{shown(cell)}' is not an allowed value; use one of: {', '.join(field.enum)}"
        if pattern is not None and not pattern.fullmatch(cell):
            if field.partial_date:
                return f"'{shown(cell)}' is not a date; write YYYY, YYYY-MM or YYYY-MM-DD"
            return f"'{shown(cell)}' has the wrong form; it must match the pattern {c['pattern']}"
        if max_length is not None and len(cell) > max_length:
            return f"text is {len(cell)} characters, at most {max_length} are allowed; shorten it"
        if min_length is not None and len(cell) < min_length:
            return f"text is {len(cell)} characters, at least {min_length} are needed; complete it"
        if isinstance(value, Decimal) and not value.is_finite():
            return None  # values.number_problem names it
        if minimum is not None and value is not None and value < minimum:
            return f"{shown(cell)} is below the minimum {minimum}; check the value"
        if maximum is not None and value is not None and value > maximum:
            return f"{shown(cell)} is above the maximum {maximum}; check the value"
        return None

    return check


def field_check(package: Package, field: Field) -> CellCheck | None:
    """One function from a non-empty cell to the message it deserves; None when no cell can be wrong."""
    constraint = _constraints(field)
    hint = TYPE_HINTS.get(field.type, field.type)
    if field.type == "integer":
        def integer(cell: str) -> str | None:
            try:
                value = int(cell)
            except ValueError:
                return f"'{shown(cell)}' is not {hint}; write {hint}"
            return constraint(cell, value) or integer_problem(cell)
        return integer
    if field.type == "number":
        def number(cell: str) -> str | None:
            try:
                value = Decimal(cell)
            except InvalidOperation:
                return f"'{shown(cell)}' is not {hint}; write {hint}"
            return constraint(cell, value) or number_problem(cell)
        return number
    if field.type == "boolean":
        allowed = frozenset(field.true_values + field.false_values)
        words = " or ".join(field.true_values + field.false_values)
        return lambda cell: None if cell in allowed else f"'{shown(cell)}' is not allowed; write {words}"
    if field.raw.get("format") == "uri":
        def uri(cell: str) -> str | None:
            if not _is_uri(cell):
                return (f"'{shown(cell)}' is not a web address; write the full address, starting with https:// "
                        "or http://")
            return constraint(cell, None) or url_problem(cell)
        return uri
    if field.partial_date:
        years = package.partial_date_years
        return lambda cell: constraint(cell, None) or partial_date_problem(cell, years)
    if field.enum or field.raw.get("constraints", {}).keys() - {"required"}:
        return lambda cell: constraint(cell, None)
    return None


def _cast(field: Field) -> Callable[[str], Any]:
    """A checked cell as the database stores it: a whole number as INTEGER (float() would round one above 2**53),
    any other number as a finite REAL, a boolean as 1 or 0."""
    if field.type == "integer":
        return lambda v: int(v) if v != "" else None
    if field.type == "number":
        return lambda v: (int(v) if INTEGER_FORM.fullmatch(v) else float(v)) if v != "" else None
    trues = frozenset(field.true_values)
    return lambda v: (1 if v in trues else 0) if v != "" else None


def caster(resource: Resource) -> Callable[[list[Any]], list[Any]]:
    """A function that casts a record's typed cells in place and returns it; text cells stay ("" for empty)."""
    casts = [(i, _cast(f)) for i, f in enumerate(resource.fields) if f.type in TYPED]

    def cast(record: list[Any]) -> list[Any]:
        for i, one in casts:
            record[i] = one(record[i])
        return record

    return cast


def _length_only(field: Field) -> bool:
    """A text column whose only rule beyond `required` is maxLength: checked for all such columns at once."""
    plain = field.type == "string" and not field.partial_date and field.raw.get("format") != "uri"
    return plain and set(field.raw.get("constraints") or {}) <= {"required", "maxLength"}


class RowChecker:
    """Every cell check of one table, and the casts of its typed cells for the insert.

    The common case, a good record, costs a few calls in C: empty required cells are looked for in one tuple,
    and the lengths of all text cells compared with their maxLength in one map; only the columns with other
    rules get a check per cell."""

    def __init__(self, package: Package, resource: Resource) -> None:
        fields = resource.fields
        self.path = resource.path
        self.names = resource.field_names
        self.required = [i for i, f in enumerate(fields) if f.required]
        self.required_cells = itemgetter(*self.required) if len(self.required) > 1 else None
        self.limits = [int((f.raw.get("constraints") or {}).get("maxLength", sys.maxsize)) if _length_only(f)
                       else sys.maxsize for f in fields]
        self.length_checks = [(i, check) for i, f in enumerate(fields)
                              if _length_only(f) and (check := field_check(package, f))]
        self.checks = [(i, check) for i, f in enumerate(fields)
                       if not _length_only(f) and (check := field_check(package, f))]
        self.cast = caster(resource)

    def problems(self, record: list[str], line: int) -> list[Problem]:
        """The record's problems, in the order of its columns; [] for a good record (the common case)."""
        found: list[Problem] = []
        if self.required_cells is None or "" in self.required_cells(record):
            for i in self.required:
                if record[i] == "":
                    found.append(Problem(self.path, line, self.names[i], "is empty but required; fill it in"))
        checks = self.checks
        if any(map(gt, map(len, record), self.limits)):
            checks = sorted(checks + self.length_checks, key=lambda c: c[0])
        for i, check in checks:
            cell = record[i]
            if cell != "":
                reason = check(cell)
                if reason:
                    found.append(Problem(self.path, line, self.names[i], reason))
        return found
