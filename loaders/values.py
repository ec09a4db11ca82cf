"""Checks of single values that Table Schema cannot express, or that frictionless lets through.

Frictionless reads numbers the way Python does: `Infinity`, `NaN`, `1e400`, `1_000`, ` 12`,
full-width digits and integers of any size all pass, and then break the build or the chart
JSON, or are stored as a different number. A `format: uri` cell may hold `javascript:` or
`data:` addresses, which would become clickable links on the site. Each function returns
the reason a value is wrong, or None.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from .problems import shown

INTEGER_FORM = re.compile(r"-?[0-9]+")
NUMBER_FORM = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
PARTIAL_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
# SQLite stores whole numbers as signed 64-bit integers.
SQLITE_INTEGER = (-(2**63), 2**63 - 1)
WEB_SCHEMES = ("http", "https")
# Not allowed anywhere in a web address: white space, control characters, and the characters that end
# an address or an attribute in HTML.
URL_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f-\x9f<>\"`\\]")
PLAIN_NUMBER = ("written as a plain number: digits 0-9, a leading minus if negative, a point before decimals "
                "and optionally an exponent such as 1.5e6; no spaces, plus sign, underscores or other digits")


def _accepted_by_python_decimal(value: str) -> bool:
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


def integer_problem(value: str) -> str | None:
    if not INTEGER_FORM.fullmatch(value):
        try:
            int(value)
        except ValueError:
            return None  # frictionless reports it as not a whole number
        return f"'{shown(value)}' is not written as a plain whole number (digits 0-9 and a leading minus only)"
    if not SQLITE_INTEGER[0] <= int(value) <= SQLITE_INTEGER[1]:
        return (f"'{shown(value)}' is too large: the database stores whole numbers between "
                f"{SQLITE_INTEGER[0]:,} and {SQLITE_INTEGER[1]:,}; check the value")
    return None


def number_problem(value: str) -> str | None:
    if not NUMBER_FORM.fullmatch(value):
        if not _accepted_by_python_decimal(value):
            return None  # frictionless reports it as not a number
        if not Decimal(value).is_finite():
            return (f"'{shown(value)}' is not a finite number; write the number itself "
                    "(leave the cell empty only where the column allows an unknown value)")
        return f"'{shown(value)}' is not {PLAIN_NUMBER}"
    if INTEGER_FORM.fullmatch(value):
        return integer_problem(value)
    stored = float(value)
    if not math.isfinite(stored):
        return f"'{shown(value)}' is too large for the database (at most about 1.8e308); check the value"
    if Decimal(repr(stored)) != Decimal(value):
        return (f"'{shown(value)}' has more digits than the database keeps: it would be stored as {stored!r}; "
                "check the value")
    return None


def url_problem(value: str) -> str | None:
    bad = URL_FORBIDDEN.search(value)
    if bad:
        return (f"'{shown(value)}' contains '{shown(bad.group())}' at position {bad.start() + 1}, which a web address "
                "cannot hold; remove it or write it encoded (a space as %20)")
    parts = urlsplit(value)
    if parts.scheme.lower() not in WEB_SCHEMES:
        scheme = f"a {parts.scheme}: address" if parts.scheme else "not a full web address"
        return (f"'{shown(value)}' is {scheme}; only http:// and https:// addresses are allowed "
                "(others could run code or open local files when clicked)")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return f"'{shown(value)}' has a port that is not a number; correct the address"
    if not parts.hostname:
        return f"'{shown(value)}' has no host name; write the full address, such as https://example.org/page"
    if parts.username is not None or parts.password is not None:
        return f"'{shown(value)}' holds a user name or password before '@'; write the address without them"
    return None


def partial_date_problem(value: str, years: tuple[int, int] | None) -> str | None:
    match = PARTIAL_DATE.fullmatch(value)
    if not match:
        return f"'{shown(value)}' is not a date; write YYYY, YYYY-MM or YYYY-MM-DD"
    year, month, day = match.groups()
    if years and not years[0] <= int(year) <= years[1]:
        return (f"'{shown(value)}': year {year} is outside {years[0]}-{years[1]}, the years datapackage.yaml allows "
                "(partialDateYears); check the date")
    if month is not None and not 1 <= int(month) <= 12:
        return f"'{value}' has no month {month}; write YYYY-MM with 01-12"
    if day is not None:
        try:
            dt.date(int(year), int(month), int(day))
        except ValueError:
            return f"'{value}' is not a date that exists; check day and month"
    return None
