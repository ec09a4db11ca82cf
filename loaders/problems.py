"""A problem found in the input, formatted the way every message of the loader is: file:line: column: text."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Control, format (zero-width, bidi, BOM), separator, private-use and unassigned characters: a message
# shows them as <U+XXXX>, since printed as they are they would be invisible or break the line.
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
ECHO_LIMIT = 60


def visible(text: str) -> str:
    """`text` with every invisible or line-breaking character, and every space other than U+0020, as <U+XXXX>."""
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category in _HIDDEN or (category == "Zs" and char != " "):
            out.append(f"<U+{ord(char):04X}>")
        else:
            out.append(char)
    return "".join(out)


def shown(value: object, limit: int = ECHO_LIMIT) -> str:
    """A cell as a message quotes it: cut to `limit` characters (with how many were left out), made visible."""
    text = "" if value is None else str(value)
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text):,} characters)"
    return visible(text)


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return visible(f"{self.path}:{self.line}: {self.column}: {self.message}")


class ValidationFailed(Exception):
    """Raised with every problem found, so the user can fix them all in one go."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = sorted(set(problems))
