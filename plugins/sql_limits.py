"""Bounds on what one SQL statement may cost, set on every connection Datasette opens.

Datasette's time limit is checked by a progress handler between SQLite instructions, so one
instruction that builds a huge value (`zeroblob(999999999)`, `printf('%.*c', 999999999, 'x')`)
ran for seconds and grew the server by gigabytes. SQLite's own limits stop such a value before
it is made, with "string or blob too big", which Datasette answers as a 400:

- LENGTH: no string or blob over 256 KiB. The schema allows at most 2,000 characters in a cell
  (about 8 KiB in UTF-8), so real values and the saved queries' group_concat lists stay far below.
- COLUMN: at most 64 columns in a result (the widest table has about 20).
- SQL_LENGTH: at most 64 KiB of SQL text.

What one query may hand to Python is bounded too: rows are counted as they are fetched and a
result over 16 MiB (16x a full 1,000-row page of the widest table) is refused. A row can be at
most 64 x 256 KiB, so one request holds at most about 32 MiB of results.

`printf()` and `format()` get one more guard: on SQLite 3.40, `printf('%.*c', 999999999, 'x')`
stops adding characters at the length limit but still counts to a billion, seconds inside one
instruction where no time limit can stop it. The functions are replaced by a wrapper that refuses
a width or precision above the length limit, then lets SQLite's own printf do the work on a
private in-memory connection, so the output is exactly SQLite's.

Two SQL features that show internals are refused by an authorizer: `fts3_tokenizer()` returns a
memory address, and the `pragma_database_list` table shows the file path that /-/databases.json
hides. (Datasette's own `PRAGMA database_list` statement stays allowed; visitors cannot send
PRAGMA statements.)
"""

from __future__ import annotations

import re
import sqlite3
import threading
import weakref
from typing import Any

from datasette import hookimpl

MAX_VALUE_BYTES = 256 * 1024
MAX_COLUMNS = 64
MAX_SQL_BYTES = 64 * 1024
MAX_RESULT_BYTES = 16 * 1024 * 1024
DENIED_FUNCTIONS = frozenset({"fts3_tokenizer", "load_extension", "readfile", "writefile", "edit"})
DENIED_TABLES = frozenset({"pragma_database_list"})
TOO_LARGE = ("het antwoord is te groot; vraag minder rijen of kolommen "
             "/ the result is too large; ask for fewer rows or columns")


def authorizer(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and (arg1 or "").lower() in DENIED_TABLES:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


# One printf conversion: flags, width, precision (a number or * for "the next argument"), type.
_CONVERSION = re.compile(r"%[-+ 0#,!]*(\*|\d+)?(?:\.(\*|\d+))?(.)")
_local = threading.local()


def _too_wide(fmt: str, args: tuple[Any, ...]) -> bool:
    """Whether any width or precision, written in the format or taken from an argument, is over the limit."""
    position = 0
    for match in _CONVERSION.finditer(fmt):
        if match[3] == "%":
            continue
        for size in (match[1], match[2]):
            if size == "*":
                value = args[position] if position < len(args) else 0
                position += 1
                if isinstance(value, int | float) and abs(value) > MAX_VALUE_BYTES:
                    return True
            elif size and int(size) > MAX_VALUE_BYTES:
                return True
        position += 1
    return False


def bounded_printf(*args: Any) -> Any:
    """SQLite's printf; NULL, as SQLite's own answer to a result over the length limit, where a
    width or precision above that limit would make it loop for seconds."""
    if args and isinstance(args[0], str) and _too_wide(args[0], args[1:]):
        return None
    if not hasattr(_local, "conn"):
        _local.conn = sqlite3.connect(":memory:", check_same_thread=False)
        _local.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    placeholders = ", ".join("?" for _ in args)
    return _local.conn.execute(f"select printf({placeholders})", args).fetchone()[0]


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes) else 16


class ResultBudget:
    """A row factory that makes sqlite3.Row objects and refuses a result once it passes the budget.

    One connection runs one statement at a time, each in a cursor of its own, so the count starts
    again whenever a new cursor delivers rows.
    """

    def __init__(self, budget: int = MAX_RESULT_BYTES) -> None:
        self.budget = budget
        self.cursor: weakref.ref[sqlite3.Cursor] | None = None
        self.used = 0

    def __call__(self, cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> sqlite3.Row:
        if self.cursor is None or self.cursor() is not cursor:
            self.cursor = weakref.ref(cursor)
            self.used = 0
        self.used += sum(_size(value) for value in row)
        if self.used > self.budget:
            raise sqlite3.OperationalError(TOO_LARGE)
        return sqlite3.Row(cursor, row)


def limit_connection(conn: sqlite3.Connection) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, MAX_COLUMNS)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)
    conn.set_authorizer(authorizer)
    for name in ("printf", "format"):
        conn.create_function(name, -1, bounded_printf, deterministic=True)
    conn.row_factory = ResultBudget()


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    limit_connection(conn)
